module "rule" {
  source   = "./rule"
  name     = "signin"
  severity = "urgent"
  period   = "five"
}
