// Placeholder: the zmq transport is being written.
