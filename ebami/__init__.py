"""ebami: bake, verify and roll out custom AMIs for Elastic Beanstalk's ECS-based platforms."""

__version__ = "0.1.0"
