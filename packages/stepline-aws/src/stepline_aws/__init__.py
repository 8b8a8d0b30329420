"""Stepline secrets from AWS Secrets Manager and SSM Parameter Store (boto3)."""
