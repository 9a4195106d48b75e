"""Resource types whose destruction destroys data, across AWS, Google Cloud, Azure and Kubernetes.

Curated by hand: a type is here when deleting or replacing it loses something that cannot be
recreated from configuration (rows, objects, disk blocks, key material, secret values, messages,
DNS records, images). Compute, networking and IAM are deliberately absent: they come back as
they were from the same code.
"""

from __future__ import annotations

# category -> what is lost when a resource of that category is destroyed
CONSEQUENCES: dict[str, str] = {
    "database": "data loss unless a snapshot is taken",
    "bucket": "the stored objects are lost unless copied first",
    "volume": "the data on the disk is lost unless it is snapshotted",
    "file-system": "the files are lost unless they are backed up",
    "kms-key": "everything encrypted with this key becomes unreadable",
    "secret": "the secret value and its versions are lost; consumers break",
    "queue": "messages in flight are lost and subscribers are cut off",
    "dns-zone": "all records are lost and the zone's name servers change",
    "cache": "the cached data is lost (cold start, possible load spike)",
    "search": "the search indexes are lost and must be rebuilt",
    "registry": "the stored images are lost",
    "backup": "the backups (recovery points) themselves are lost",
    "identity": "the user accounts are lost",
}

_TYPES: dict[str, tuple[str, ...]] = {
    "database": (
        # AWS
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_dynamodb_table",
        "aws_dynamodb_global_table",
        "aws_redshift_cluster",
        "aws_redshiftserverless_namespace",
        "aws_docdb_cluster",
        "aws_docdb_elastic_cluster",
        "aws_neptune_cluster",
        "aws_keyspaces_table",
        "aws_timestreamwrite_table",
        "aws_qldb_ledger",
        "aws_lightsail_database",
        # Google Cloud
        "google_sql_database_instance",
        "google_sql_database",
        "google_spanner_instance",
        "google_spanner_database",
        "google_bigtable_instance",
        "google_bigtable_table",
        "google_bigquery_dataset",
        "google_bigquery_table",
        "google_firestore_database",
        "google_alloydb_cluster",
        # Azure
        "azurerm_mssql_server",
        "azurerm_mssql_database",
        "azurerm_mssql_managed_instance",
        "azurerm_sql_server",
        "azurerm_sql_database",
        "azurerm_postgresql_server",
        "azurerm_postgresql_database",
        "azurerm_postgresql_flexible_server",
        "azurerm_postgresql_flexible_server_database",
        "azurerm_mysql_server",
        "azurerm_mysql_database",
        "azurerm_mysql_flexible_server",
        "azurerm_mysql_flexible_database",
        "azurerm_mariadb_server",
        "azurerm_cosmosdb_account",
        "azurerm_cosmosdb_sql_database",
        "azurerm_cosmosdb_sql_container",
        "azurerm_cosmosdb_mongo_database",
        "azurerm_cosmosdb_cassandra_keyspace",
        "azurerm_cosmosdb_table",
        "azurerm_kusto_cluster",
        "azurerm_kusto_database",
    ),
    "bucket": (
        "aws_s3_bucket",
        "aws_s3control_bucket",
        "aws_s3_directory_bucket",
        "aws_glacier_vault",
        "google_storage_bucket",
        "azurerm_storage_account",
        "azurerm_storage_container",
        "azurerm_storage_blob",
        "azurerm_storage_data_lake_gen2_filesystem",
    ),
    "volume": (
        "aws_ebs_volume",
        "aws_lightsail_disk",
        "google_compute_disk",
        "google_compute_region_disk",
        "azurerm_managed_disk",
        "kubernetes_persistent_volume_claim",
        "kubernetes_persistent_volume_claim_v1",
        "kubernetes_persistent_volume",
        "kubernetes_persistent_volume_v1",
    ),
    "file-system": (
        "aws_efs_file_system",
        "aws_fsx_lustre_file_system",
        "aws_fsx_windows_file_system",
        "aws_fsx_ontap_file_system",
        "aws_fsx_openzfs_file_system",
        "google_filestore_instance",
        "azurerm_storage_share",
        "azurerm_netapp_volume",
    ),
    "kms-key": (
        "aws_kms_key",
        "aws_kms_replica_key",
        "aws_kms_external_key",
        "google_kms_crypto_key",
        "google_kms_key_ring",
        "azurerm_key_vault",
        "azurerm_key_vault_key",
        "azurerm_key_vault_managed_hardware_security_module",
    ),
    "secret": (
        "aws_secretsmanager_secret",
        "aws_ssm_parameter",
        "google_secret_manager_secret",
        "google_secret_manager_regional_secret",
        "azurerm_key_vault_secret",
        "azurerm_key_vault_certificate",
        "kubernetes_secret",
        "kubernetes_secret_v1",
        "vault_generic_secret",
        "vault_kv_secret_v2",
    ),
    "queue": (
        "aws_sqs_queue",
        "aws_sns_topic",
        "aws_kinesis_stream",
        "aws_kinesis_firehose_delivery_stream",
        "aws_msk_cluster",
        "aws_msk_serverless_cluster",
        "aws_mq_broker",
        "google_pubsub_topic",
        "google_pubsub_subscription",
        "google_pubsub_lite_topic",
        "azurerm_servicebus_namespace",
        "azurerm_servicebus_queue",
        "azurerm_servicebus_topic",
        "azurerm_servicebus_subscription",
        "azurerm_eventhub_namespace",
        "azurerm_eventhub",
        "azurerm_storage_queue",
        "azurerm_eventgrid_topic",
    ),
    "dns-zone": (
        "aws_route53_zone",
        "google_dns_managed_zone",
        "azurerm_dns_zone",
        "azurerm_private_dns_zone",
    ),
    "cache": (
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
        "aws_elasticache_serverless_cache",
        "aws_memorydb_cluster",
        "aws_dax_cluster",
        "google_redis_instance",
        "google_redis_cluster",
        "google_memcache_instance",
        "azurerm_redis_cache",
        "azurerm_managed_redis",
    ),
    "search": (
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_opensearchserverless_collection",
        "azurerm_search_service",
        "ec_deployment",
    ),
    "registry": (
        "aws_ecr_repository",
        "aws_ecrpublic_repository",
        "google_artifact_registry_repository",
        "google_container_registry",
        "azurerm_container_registry",
    ),
    "backup": (
        "aws_backup_vault",
        "google_backup_dr_backup_vault",
        "azurerm_recovery_services_vault",
        "azurerm_data_protection_backup_vault",
    ),
    "identity": (
        "aws_cognito_user_pool",
        "google_identity_platform_tenant",
        "azurerm_aadb2c_directory",
    ),
}

STATEFUL_TYPES: dict[str, str] = {t: category for category, types in _TYPES.items() for t in types}


def stateful_category(resource_type: str) -> str | None:
    """The data category of ``resource_type`` (``database``, ``bucket`` ...), or None."""
    return STATEFUL_TYPES.get(resource_type)


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES


def consequence(resource_type: str) -> str | None:
    """What is lost when a resource of this type is destroyed, in words."""
    category = STATEFUL_TYPES.get(resource_type)
    return CONSEQUENCES[category] if category else None
