"""The answer check: is each sentence of the model's answer supported by the passages it cites?"""
