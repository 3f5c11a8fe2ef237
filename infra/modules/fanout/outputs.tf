output "state_machine_arn" {
  description = "ARN of the fan-out state machine."
  value       = aws_sfn_state_machine.this.arn
}
