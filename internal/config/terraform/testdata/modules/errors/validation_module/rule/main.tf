variable "name" { type = string }
variable "period" { type = number }
variable "severity" {
  type = string
  validation {
    condition     = contains(["low", "medium", "high", "critical"], var.severity)
    error_message = "severity is one of low, medium, high, critical."
  }
}
