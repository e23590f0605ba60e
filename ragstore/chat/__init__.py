"""Answering from retrieved passages: the prompt, an OpenAI-compatible chat model, extractive answers, scrubbing."""
