from .errors import FeedbackError
from .openai_client import OpenAIChatClient, default_feedback_cache_dir
from .server import ChatModel, ChatServer, chat_prompt_ids, load_causal_lm, start_server

__all__ = ['FeedbackError', 'OpenAIChatClient', 'default_feedback_cache_dir', 'ChatModel', 'ChatServer',
           'chat_prompt_ids', 'load_causal_lm', 'start_server']
