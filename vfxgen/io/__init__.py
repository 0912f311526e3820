"""vfxgen.io"""
