// Placeholder: the mq transport is being written.
