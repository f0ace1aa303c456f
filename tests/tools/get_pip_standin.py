# Stand-in for the get-pip bootstrap script ansible-test downloads from a host
# this workplace cannot reach: pip comes from the standard library's ensurepip,
# then the version ansible-test asked for is installed from the package index.
# get-pip's own flags (--no-setuptools, --no-wheel) mean "do not add them": pip install adds neither anyway.
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide the machine's pip.conf (index, certificates).
env = dict((k, v) for k, v in os.environ.items() if k != 'PIP_CONFIG_FILE')
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args, env=env))
