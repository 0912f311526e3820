"""CogVideoX's VAE decodes an even number of latent frames to the wrong length; this decodes any count right.

The encoder keeps the first pixel frame on its own and packs every following 4 into one latent, so
`4k + 1` frames give `k + 1` latents. The decoder (diffusers' `AutoencoderKLCogVideoX._decode`) mirrors
that only when a decode chunk holds an odd number of latents: its time upsampler treats an odd chunk as
"first frame + pairs" and an even one as "pairs only". With the default chunking the first chunk is odd
exactly when the latent count is, so 3 latents decode to 9 frames but 2 decode to 8 (not 5) and 4 to 16
(not 13): `vfxgen generate --frames 5` wrote 8 frames, and the VAE training stage crashed on 5-frame
clips. (CogVideoX 1.0 was trained at 49 frames = 13 latents, odd, so the released models never hit it.)

The fix: give the decoder an odd count by repeating the last latent once, decode, keep the `4(L-1) + 1`
frames the latents stand for. The kept frames come from the same first-chunk structure as an odd decode
(first latent -> 1 frame, the rest -> 4 each); the decoder's causal convolutions make them independent
of the extra latent except through GroupNorm statistics within the chunk (measured small in
tests/test_vae_frames.py). An odd count is decoded untouched.
"""

from __future__ import annotations

import torch

__all__ = ["frames_for_latents", "pad_to_odd_latents"]


def frames_for_latents(latent_frames: int, temporal_compression: int = 4) -> int:
    """The pixel frames `latent_frames` latents stand for: `4(L - 1) + 1` (what the encoder made them from)."""
    return (latent_frames - 1) * temporal_compression + 1


def pad_to_odd_latents(latents: torch.Tensor, dim: int) -> torch.Tensor:
    """`latents` with its last frame (along `dim`) repeated once when the count is even and > 1, so the
    CogVideoX decoder treats the first latent as the single first frame; slice the decoded frames back to
    `frames_for_latents(L)` afterwards."""
    count = latents.shape[dim]
    if count > 1 and count % 2 == 0:
        return torch.cat([latents, latents.narrow(dim, count - 1, 1)], dim=dim)
    return latents
