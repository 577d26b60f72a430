"""A small movie-showtimes IVR built with Flask and TwiML, used to exercise the TwiML target."""
from examples.showtimes.app import create_app

__all__ = ["create_app"]
