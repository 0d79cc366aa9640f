"""RabbitMQ plumbing: one topology, a confirming publisher, a consumer with retries."""
