print("example-agent: being built")
