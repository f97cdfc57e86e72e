"""Encoders: audio, text, image and symbolic models, and projection/classifier heads."""
