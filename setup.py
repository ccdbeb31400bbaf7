import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of requirements/<name>.txt, without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    return [line for line in lines if line]


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'motionkit', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='motionkit',
    version=read_version(),
    description='A toolkit for human-motion + language research, built on MMEngine',
    long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['motionkit', 'motionkit.*']),
    include_package_data=True,
    install_requires=read_requirements('runtime'),
    extras_require={
        'optional': read_requirements('optional'),
        'tests': read_requirements('tests'),
        'docs': read_requirements('docs'),
        'all': read_requirements('optional') + read_requirements('tests'),
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
