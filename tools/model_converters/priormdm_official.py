"""Convert PriorMDM's fine-tuned motion-control checkpoints (Shafir et al., ICLR 2024:
``root_horizontal_finetuned``, ``left_wrist_finetuned``, ``right_foot_finetuned``,
``model000280000.pt``) into motionkit's ``PriorMDM``.

The network is MDM's (same keys as ``mdm_official.py``); what makes it a control model is how it is
driven, which the config states: the controlled features are positions only
(``control_blocks=('root', 'ric')``: a joint's 3 ``ric`` features, or the root's rotation and xz
velocity for ``root_horizontal``, as ``get_inpainting_mask`` in PriorMDM's
``data_loaders/humanml_utils.py``), and the denoiser sees them noise-free, ``sqrt(alpha_bar_t) *
x0`` (``control_input='noise_free'``, PriorMDM's ``InpaintingGaussianDiffusion``), with the x0
prediction overwritten there.

    python tools/model_converters/priormdm_official.py \\
        save/left_wrist_finetuned/model000280000.pt --control left_wrist \\
        checkpoints/priormdm_left-wrist-control_official_humanml3d.pth
    python tools/test.py configs/priormdm/priormdm-left-wrist_trans-enc-512_humanml3d.py \\
        checkpoints/priormdm_left-wrist-control_official_humanml3d.pth
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from mdm_official import convert_state, mdm_sizes, official_state  # noqa: E402

from motionkit.hub.converters import (ConversionError, load_strict, run_conversion, save_converted)  # noqa: E402
from motionkit.models.editors.prior_mdm import PriorMDM  # noqa: E402

CONTROLS = ('root_horizontal', 'left_wrist', 'right_foot')


def build_model(sizes: dict, control: str, num_heads: int = 4) -> PriorMDM:
    return PriorMDM(control_joints=control, control_blocks=('root', 'ric'),
                    control_input='noise_free', feature_dim=sizes['feature_dim'],
                    latent_dim=sizes['latent_dim'], ff_size=sizes['ff_size'],
                    num_layers=sizes['num_layers'], num_heads=num_heads, mask_frames=False,
                    text_encoder=dict(type='HFTextEncoder', model_path='openai/clip-vit-base-patch32',
                                      embed_dim=sizes['text_dim'], pooling='clip', max_length=22),
                    representation='HumanML3DFeatures')


def convert(src: str, out: str, control: str) -> str:
    if control not in CONTROLS:
        raise ConversionError(f'--control must be one of {CONTROLS}, got {control!r}')
    state = official_state(src)
    sizes = mdm_sizes(state)
    if sizes['feature_dim'] != 263:
        raise ConversionError(f'{src}: a {sizes["feature_dim"]}-D model; PriorMDM control models '
                              'are HumanML3D (263-D)')
    model = build_model(sizes, control)
    load_strict(model, convert_state(state, src), src)
    return save_converted(model, out, dict(converted_from=osp.basename(src), sizes=sizes,
                                           control=control,
                                           converter='tools/model_converters/priormdm_official.py'))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Convert a PriorMDM motion-control model000xxxxxx.pt")
    p.add_argument('src')
    p.add_argument('out')
    p.add_argument('--control', required=True, choices=CONTROLS)
    args = p.parse_args(argv)
    return run_conversion(convert, args.src, args.out, args.control)


if __name__ == '__main__':
    sys.exit(main())
