"""vfxgen.pipelines"""
