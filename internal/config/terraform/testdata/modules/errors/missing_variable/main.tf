module "notify" {
  source = "./notify"
  topic  = "alerts"
}
