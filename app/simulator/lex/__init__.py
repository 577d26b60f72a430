"""An offline Amazon Lex bot: reads a V1 or V2 export and holds conversations with it.

A Connect flow hands caller speech to Lex and branches on the intent it recognizes, so offline
calls need a stand-in that answers the way the real bot would, from the export alone. There is no
model to train; one module per concept:

- `export`: reading V1 JSON and V2 zip/folder exports into the model (`model`);
- `nlu`: which intent an utterance means (word evidence weighted like Lex, and whole-sample
  similarity for recognizer noise), with a confidence compared with the bot's threshold;
- `builtins` (+ `data/` gazetteers): how AMAZON.* slot types fill and resolve;
- `words`: carrier words, stems and synonyms;
- `dialogue`: sessions and replies under the V1 and V2 dialogue rules;
- `bot`: `LexBot`, the loaded bot; `command`: the `lex` command line.
"""
from app.simulator.lex.bot import LexBot
from app.simulator.lex.dialogue import (ELICIT_INTENT, ELICIT_SLOT, FAILED, FULFILLED, LexReply,
                                        LexSession)
from app.simulator.lex.nlu import min_score

__all__ = ["LexBot", "LexReply", "LexSession", "min_score", "ELICIT_INTENT", "ELICIT_SLOT",
           "FULFILLED", "FAILED"]
