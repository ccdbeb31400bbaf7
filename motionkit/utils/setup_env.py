"""Import every motionkit module so its classes register, and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope

# Packages whose ``__init__`` imports all of their modules (STYLE.md, rule 2).
_PACKAGES = (
    'motionkit.motion',
    'motionkit.datasets',
    'motionkit.synthmotion',
    'motionkit.models',
    'motionkit.evaluation',
    'motionkit.engine',
    'motionkit.visualization',
    'motionkit.feedback',
    'motionkit.apis',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every motionkit module into its registry.

    Args:
        init_default_scope: also make ``motionkit`` the current default scope, so that
            ``MODELS.build(dict(type='X'))`` looks up motionkit's registries first. If another scope
            is current, a new ``motionkit`` scope instance is created and made current (with a
            warning), as OpenMMLab toolboxes do.
    """
    import importlib

    for name in _PACKAGES:
        importlib.import_module(name)
    from .checkpoint import install_safe_checkpoint_loader
    install_safe_checkpoint_loader()  # local files and the hub's schemes, all through safe_load
    if not init_default_scope:
        return
    never_created = (DefaultScope.get_current_instance() is None
                     or not DefaultScope.check_instance_created('motionkit'))
    if never_created:
        DefaultScope.get_instance('motionkit', scope_name='motionkit')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'motionkit':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "motionkit", '
                      '`register_all_modules` will force the current '
                      'default scope to be "motionkit". If this is not '
                      'expected, please set `init_default_scope=False`.')
        # avoid name conflict
        new_instance_name = f'motionkit-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='motionkit')
