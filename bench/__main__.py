"""`python -m bench`: run every benchmark and print its table."""

from bench import nlp

if __name__ == "__main__":
    nlp.main()
