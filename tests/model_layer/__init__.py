"""The model layer: identifiers, configuration, backends against real servers, native workers, retries, trust."""
