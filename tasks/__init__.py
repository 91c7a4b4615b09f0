"""One module per assignment task: ``python -m tasks.<name>``; ``python -m tasks`` lists them.

Module names start with the assignment letter (a1, b1, c1 ...): that is how reports find them.
"""
