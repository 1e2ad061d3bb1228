"""HTTP and WebSocket surface of the reference backend; thin edges over the services."""
