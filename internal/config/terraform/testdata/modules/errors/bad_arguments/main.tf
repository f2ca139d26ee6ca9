module "notify" {
  source   = "./notify"
  colour   = "red"
  version  = "1.0.0"
  count    = 1
  for_each = toset(["a"])
  lifecycle {}
}
