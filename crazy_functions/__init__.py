"""Academic plugins (GPT Academic's signature) and the helpers they share."""
