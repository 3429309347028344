"""KYC: data completeness, sanctions screening (OFAC SDN list) and PEP screening for the `kyc/validate` task."""
