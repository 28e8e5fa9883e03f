"""How a Lambda trigger's function is reached: bindings (Lambda Invoke API, Python and Node handlers, URLs,
callables), the runners behind them and what an attempt can come to. ``harness.engine.triggers`` builds
Cognito's events and errors on top; this package knows nothing of Cognito."""
