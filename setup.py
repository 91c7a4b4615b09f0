"""hwkit: Keras 3 coursework toolkit. Install for development with: pip install -e '.[test]'."""
from setuptools import find_packages, setup

setup(
    name="hwkit",
    version="0.1.0",
    description="Runnable, tuned, reproducible deep-learning coursework with PDF reports (Keras 3)",
    packages=[*find_packages(include=["hwkit", "hwkit.*", "tasks", "tasks.*"]), "hwkit.templates"],
    # the top-level templates/ ships inside the package, so a wheel or `pip install .` renders PDFs too
    package_dir={"hwkit.templates": "templates"},
    package_data={"hwkit.templates": ["*.html"], "tasks": ["examples/*.json"]},
    python_requires=">=3.10",
    # one command for every program: `hwkit tasks | run | report | submit | data` (hwkit.cli.main)
    entry_points={"console_scripts": ["hwkit = hwkit.cli:main"]},
    # Versions tested together on Python 3.11 / 2 CPU cores. tensorflow-cpu is the same TensorFlow
    # without the CUDA wheels. On a GPU machine (README, "Scale out"; pip resolves it with these pins):
    #   pip install -e . && pip uninstall -y tensorflow-cpu && pip install 'tensorflow[and-cuda]==2.21.0'
    # (an extra cannot do it: tensorflow and tensorflow-cpu install the same package and clash).
    install_requires=[
        "tensorflow-cpu==2.21.0",
        "tensorboard==2.21.0",   # KerasTuner imports it on the TensorFlow backend
        "keras==3.15.1",
        "keras-tuner==1.4.8",
        "grpcio>=1.60",         # hwkit.distribute serves KerasTuner's oracle over gRPC (KerasTuner needs it too)
        "numpy>=1.26,<3",
        "threadpoolctl>=3.1",  # one BLAS thread for the numpy networks (hwkit.numpy_nn.threads)
        "matplotlib==3.11.2",
        "jinja2==3.1.6",
        "weasyprint==70.0",
    ],
    # pypdfium2: PDF pages rendered by PDFium (layout tests); ruff: `ruff check .`, run by CI (.ci/run)
    # docs: the MkDocs site (mkdocs.yml, docs/); `mkdocs build --strict`, run by CI
    extras_require={"test": ["pytest>=8", "pypdf==7.1.0", "pypdfium2==5.15.2", "ruff==0.17.6"],
                    # peers: the PyTorch originals raced by benchmarks/peers/ (a CPU-only torch wheel is
                    # enough); no test needs them
                    "peers": ["torch>=2.1"],
                    "docs": ["mkdocs==1.6.1", "mkdocs-material==9.8.1", "mkdocs-gen-files==0.6.1"]},
)
