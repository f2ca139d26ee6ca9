variable "team" {
  type = string
  validation {
    condition     = can(regex("^[a-z]+$", var.team))
    error_message = "team is lower-case letters only."
  }
}
