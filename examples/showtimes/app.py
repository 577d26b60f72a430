"""Movie Showtimes: a small TwiML IVR, the kind of app this project tests.

The caller picks a theater, then a movie (press a key or say its name), hears the showtimes, and
the IVR hangs up. No input repeats the menu; an unknown choice is apologised for and the menu
repeats. Run it with `flask --app examples.showtimes.app run` and point a suite at
`twiml:http://127.0.0.1:5000/voice`.

With `auth_token` set, requests without a valid X-Twilio-Signature are refused (403), as a
production app should: that lets the test server prove it signs what it sends.
"""
import difflib
import re

from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

WELCOME = "Welcome to Movie Showtimes."
INVALID = "Sorry, that is not a valid choice."
GOODBYE = "Thank you for calling. Goodbye."

THEATERS = {
    "1": {"name": "Downtown Cinema", "keywords": ["downtown"], "movies": {
        "1": {"title": "The Matrix", "keywords": ["matrix"], "times": "1 PM, 4 PM and 7 PM"},
        "2": {"title": "Casablanca", "keywords": ["casablanca"], "times": "2 PM and 8 PM"},
    }},
    "2": {"name": "Riverside Plaza", "keywords": ["riverside"], "movies": {
        "1": {"title": "Jurassic Park", "keywords": ["jurassic"], "times": "3 PM and 9 PM"},
        "2": {"title": "Toy Story", "keywords": ["toy", "story"], "times": "11 AM and 1 PM"},
    }},
}
_NUMBER_WORDS = {"one": "1", "two": "2"}


def theater_menu_text():
    return ("Please choose a theater. For Downtown Cinema, press 1 or say Downtown. "
            "For Riverside Plaza, press 2 or say Riverside.")


def movie_menu_text(theater):
    options = " ".join(f"For {movie['title']}, press {key} or say {movie['title']}."
                       for key, movie in theater["movies"].items())
    return f"Please choose a movie. {options}"


def showtimes_text(theater, movie):
    return f"{movie['title']} is playing at {theater['name']} at {movie['times']}."


def choose(options, values):
    """The key of the option the caller picked by digit or by speech, or None.

    Speech is matched word by word and forgivingly (a recognizer may say "1" or "one", or
    misspell a name), since a caller who said the right thing should not be sent back.
    """
    digits = values.get("Digits", "")
    if digits in options:
        return digits
    words = re.findall(r"[a-z0-9]+", values.get("SpeechResult", "").lower())
    words = [_NUMBER_WORDS.get(word, word) for word in words]
    for key, option in options.items():
        if key in words or any(difflib.get_close_matches(keyword, words, n=1, cutoff=0.8)
                               for keyword in option["keywords"]):
            return key
    return None


def _menu(response, text, action, repeat, hints):
    """A Gather for one menu, then a Redirect that repeats the menu when nothing was heard."""
    gather = Gather(input="dtmf speech", num_digits=1, action=action, method="POST",
                    timeout=5, speech_timeout="auto", hints=hints)
    gather.say(text)
    response.append(gather)
    response.redirect(repeat, method="POST")
    return response


def theater_menu(response):
    hints = ", ".join(theater["name"] for theater in THEATERS.values())
    return _menu(response, theater_menu_text(), "/theater", "/theaters", hints)


def movie_menu(response, theater_key):
    theater = THEATERS[theater_key]
    hints = ", ".join(movie["title"] for movie in theater["movies"].values())
    return _menu(response, movie_menu_text(theater), f"/movie?theater={theater_key}",
                 f"/movies?theater={theater_key}", hints)


def _twiml(response):
    return str(response), 200, {"Content-Type": "text/xml"}


def create_app(auth_token=None):
    """The Flask app; with `auth_token`, unsigned or badly signed requests get 403."""
    app = Flask(__name__)

    @app.before_request
    def check_signature():
        if auth_token is None:
            return
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(auth_token).validate(request.url, request.form, signature):
            abort(403)

    @app.route("/voice", methods=["GET", "POST"])
    def voice():
        response = VoiceResponse()
        response.say(WELCOME)
        return _twiml(theater_menu(response))

    @app.route("/theaters", methods=["GET", "POST"])
    def theaters():
        return _twiml(theater_menu(VoiceResponse()))

    @app.route("/theater", methods=["GET", "POST"])
    def theater():
        response = VoiceResponse()
        key = choose(THEATERS, request.values)
        if key is None:
            response.say(INVALID)
            return _twiml(theater_menu(response))
        response.say(f"You chose {THEATERS[key]['name']}.")
        return _twiml(movie_menu(response, key))

    @app.route("/movies", methods=["GET", "POST"])
    def movies():
        key = request.args.get("theater", "")
        if key not in THEATERS:
            return _twiml(theater_menu(VoiceResponse()))
        return _twiml(movie_menu(VoiceResponse(), key))

    @app.route("/movie", methods=["GET", "POST"])
    def movie():
        response = VoiceResponse()
        theater_key = request.args.get("theater", "")
        if theater_key not in THEATERS:
            return _twiml(theater_menu(response))
        theater = THEATERS[theater_key]
        key = choose(theater["movies"], request.values)
        if key is None:
            response.say(INVALID)
            return _twiml(movie_menu(response, theater_key))
        response.say(showtimes_text(theater, theater["movies"][key]))
        response.say(GOODBYE)
        response.hangup()
        return _twiml(response)

    return app
