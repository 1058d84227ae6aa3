"""Seed 000, ex2: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit.layers import Input, Dense, LSTM, Concatenate, Reshape
from netknit.models import Model
import numpy as np

# Sequential Model for Time-Series Data
time_series_input = Input(shape=(20, 3))  # Example: 20 time steps, 3 features
lstm_out = LSTM(64, return_sequences=True)(time_series_input)
reshaped_lstm_out = Reshape((-1,64 * 20))(lstm_out) #flatten output

# Dense Layers for Static Data
static_input = Input(shape=(10,))  # Example: 10 static features
dense_1 = Dense(32, activation='relu')(static_input)
dense_2 = Dense(16, activation='relu')(dense_1)

# Concatenate the outputs
merged = Concatenate()([reshaped_lstm_out, dense_2])

# Output Layer
output = Dense(5, activation='softmax')(merged) # Example: Multiclass classification

# Create the Model
model = Model(inputs=[time_series_input, static_input], outputs=output)

model.summary()

#Generate some sample data
time_series_data = np.random.rand(100,20,3)
static_data = np.random.rand(100,10)
labels = np.random.randint(0,5,100)

model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit([time_series_data,static_data], labels, epochs=10)
