"""BackFuture AI exchange connections: the domain shared by the Lambda functions (the layer)."""
