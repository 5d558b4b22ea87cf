"""The answer engine: evidence units (sentences, list items, glossary entries), one fitted scorer for "does this
unit answer this question", and the answer shaped by what was asked, or an abstention."""
