"""vfxgen.models"""
