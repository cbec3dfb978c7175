from tokenmill.core import Encoding as Encoding
from tokenmill.core import encoding_for_model as encoding_for_model
from tokenmill.core import encoding_name_for_model as encoding_name_for_model
from tokenmill.core import get_encoding as get_encoding
from tokenmill.core import list_encoding_names as list_encoding_names
from tokenmill.train import GPT4_PATTERN as GPT4_PATTERN
from tokenmill.train import NANOCHAT_PATTERN as NANOCHAT_PATTERN
from tokenmill.train import Tokenizer as Tokenizer

__version__: str
