"""The domain: Elastic Beanstalk's ECS platforms and their OS families, the ECS agent's log
drivers and how ecs-init reads `ecs.config` (with Go's JSON), the user data, the bake key and
provenance, the base AMI lookup, the drivers of a Dockerrun file, and the model of an AMI ebami
manages and of a bake. No AWS calls: what it reads comes in as values or through protocols."""
