print("example-service: being built")
