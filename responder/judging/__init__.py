"""Judging: the machine's reading of a mention (relevance, sentiment, category, misinformation
stance) through `nlp`, people's corrections of it, retraining from those corrections and the
evaluation of the shipped model."""
