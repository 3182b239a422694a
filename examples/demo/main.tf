# A small configuration for trying tharsis against tharsis-sandbox:
#   tharsis run apply sandbox/demo --directory-path examples/demo
# The sandbox simulates Terraform: nothing here touches a real provider.

variable "environment" {
  type        = string
  description = "Name of the environment the resources are for."
  default     = "dev"
}

variable "replicas" {
  type    = number
  default = 2
}

resource "terraform_data" "network" {
  input = "network-${var.environment}"
}

resource "null_resource" "server" {
  count = var.replicas

  triggers = {
    network = terraform_data.network.output
    index   = count.index
  }
}

resource "terraform_data" "release" {
  input = {
    environment = var.environment
    servers     = length(null_resource.server)
  }
}

output "network" {
  value = terraform_data.network.output
}

output "server_ids" {
  value = null_resource.server[*].id
}

output "environment" {
  value = var.environment
}
