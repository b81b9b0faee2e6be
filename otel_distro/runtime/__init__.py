"""Leaves every layer may import (processors, exporters, otel_distro); they import nothing of ours."""
