environment       = "production"
db_instance_class = "db.t4g.medium"
