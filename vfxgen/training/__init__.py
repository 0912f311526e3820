"""vfxgen.training"""
