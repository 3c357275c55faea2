"""The functions service: functions, variables, deployments and executions, and the executor that runs them."""
