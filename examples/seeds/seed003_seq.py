"""Seed 003, seq: the article's code with only the imports changed to netknit."""

from netknit.models import Sequential
from netknit.layers import Dense

model = Sequential()
model.add(Dense(2, input_dim=1))
