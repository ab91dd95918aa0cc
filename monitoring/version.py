"""The version /metrics reports as lepton_build_info; bump it with each release."""

VERSION = "0.10.0"
