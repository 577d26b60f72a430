"""A deterministic stand-in for speech recognition, so fuzzy matching is exercised honestly.

`off` passes text through (markup removed). `realistic` does what real recognizers do to a
prompt: lower-cases it, loses punctuation, swaps number words and digits, and now and then
misspells a word. The noise is drawn from a random generator seeded by the run's seed and the
utterance's key, so the same seed always gives the same transcript, whatever the interleaving.
"""
import random
import re

from app.matching import NUMBER_WORDS, strip_markup

NOISE_MODES = ("off", "realistic")
_PUNCT = re.compile(r"[^\w\s']")
_DIGIT_WORDS = {str(value): word for word, value in NUMBER_WORDS.items() if value < 10}


class Recognizer:
    def __init__(self, noise="realistic", seed=0, misspell_rate=0.04):
        if noise not in NOISE_MODES:
            raise ValueError(f"unknown recognizer noise {noise!r} (expected off or realistic)")
        self.noise, self.seed, self.misspell_rate = noise, seed, misspell_rate

    def transcribe(self, text, key=""):
        """Return (transcript, confidence) for one utterance."""
        text = strip_markup(text)
        if self.noise == "off":
            return text, 1.0
        rng = random.Random(f"{self.seed}|{key}|{text}")
        words = [self._distort(word, rng) for word in _PUNCT.sub(" ", text.lower()).split()]
        return " ".join(words), round(rng.uniform(0.75, 0.97), 2)

    def _distort(self, word, rng):
        if word in NUMBER_WORDS and NUMBER_WORDS[word] < 10 and rng.random() < 0.5:
            return str(NUMBER_WORDS[word])
        if word in _DIGIT_WORDS and rng.random() < 0.5:
            return _DIGIT_WORDS[word]
        if len(word) >= 5 and rng.random() < self.misspell_rate:
            i = rng.randrange(1, len(word) - 2)
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word
