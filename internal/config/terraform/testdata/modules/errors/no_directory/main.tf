module "m" { source = "./nope" }
module "e" { source = "./empty" }
