"""Entry point: `python main.py` runs every suite in testSuite/ (see `python main.py --help`)."""
from app.cli import cli

if __name__ == "__main__":
    cli()
