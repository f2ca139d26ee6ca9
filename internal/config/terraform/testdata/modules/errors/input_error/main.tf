module "notify" {
  source = "./notify"
  topic  = local.nope
}
