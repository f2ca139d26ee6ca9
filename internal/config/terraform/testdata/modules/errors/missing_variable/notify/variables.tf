variable "topic" { type = string }
variable "emails" { type = list(string) }
