"""``python -m rlspectral.cli`` (and ``torchrun --nproc-per-node N -m rlspectral.cli fit ...``): the command line."""

import sys

from rlspectral.cli.main import main

sys.exit(main())
